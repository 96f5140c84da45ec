import { Codec, DataOption, type Product, SAMPLE_RATE_HZ } from './connectorShared.ts';
import { type AudioFormat, AudioRenderer, MAX_SPEAKERS_PER_PACKET, type SpeakerPacket, sampleCount } from './audioRenderer.ts';
import { Conversation, type ConversationEvent } from './conversation.ts';
import type { MediaBacklog } from './mediaBacklog.ts';
import { mediaFixtures } from './mediaFixtures.ts';
import type { AudioParams, ChatParams, DeskshareParams, MediaParams, TranscriptParams, VideoParams } from './mediaNegotiation.ts';
import type { SimParticipant } from './participants.ts';
import { isMarkSlot, markPacket, marksOverlapping, type SyncMarksOptions } from './syncMarks.ts';

/** A picture offered to the stream for sending (not buffered: video is never replayed). */
export interface PictureFrame {
  readonly kind: 'video' | 'deskshare';
  readonly participant: SimParticipant;
  readonly data: Buffer;
  /** ms epoch */
  readonly timestamp: number;
  /** This is a sync-mark picture (sync marks on). */
  readonly syncMark?: boolean;
}

/** How the producer reaches the stream's sockets and signaling. */
export interface ProducerOutlet {
  /**
   * Whether a picture of this kind can be written now: `open` (socket open, client ready),
   * `closed` (nobody to send to) or `congested` (the socket's send buffer is full).
   */
  pictureOutlet(kind: 'video' | 'deskshare'): 'open' | 'closed' | 'congested';
  sendPicture(frame: PictureFrame): void;
  /** A picture was due for a connected client but skipped because of backpressure. */
  pictureDropped(kind: 'video' | 'deskshare'): void;
  activeSpeakerChanged(participant: SimParticipant, timestamp: number): void;
  cameraChanged(participant: SimParticipant, on: boolean, timestamp: number): void;
}

interface PictureTrack {
  /** Next frame slot to consider (slot k is due at k * 1000 / fps ms), or undefined before the first. */
  nextSlot: number | undefined;
  /** Frames considered so far; picks the fixture picture / access unit. */
  counter: number;
  /** A frame was skipped, so the next H.264 frame must be an IDR for the client to decode. */
  needsKeyframe: boolean;
  fps: number;
}

/**
 * Turns media time into media for one stream: audio packets, transcript lines and chat
 * messages go into the backlog (they survive interruptions), pictures are offered to the
 * outlet and skipped when nobody can take them. Driven by `produce(elapsedMs)` from the
 * shared scheduler; everything due since the previous call is produced, so a late tick
 * catches up instead of drifting.
 */
export class MediaProducer {
  readonly #product: Product;
  readonly #participants: readonly SimParticipant[];
  readonly #conversation: Conversation;
  readonly #renderer: AudioRenderer;
  readonly #backlog: MediaBacklog;
  readonly #mediaStartAt: number;
  readonly #params: {
    audio?: AudioParams;
    video?: VideoParams;
    deskshare?: DeskshareParams;
    transcript?: TranscriptParams;
    chat?: ChatParams;
  } = {};
  #audioCursorMs: number | undefined;
  readonly #video: PictureTrack = { nextSlot: undefined, counter: 0, needsKeyframe: true, fps: 0 };
  readonly #deskshare: PictureTrack = { nextSlot: undefined, counter: 0, needsKeyframe: true, fps: 0 };
  #activeSpeaker = -1;
  /** Most recent speaker whose camera was on, shown when the active speaker's camera is off. */
  #lastVisible = -1;
  #videoSubscription: number | undefined;
  #elapsedMs = 0;
  /** Added to every timestamp from now on: a step of the server's clock, ms. */
  #clockStepMs = 0;
  /** Added to the next audio packet's timestamp only: one misdated packet, ms. */
  #misdateNextAudioMs: number | undefined;
  readonly #syncMarks: SyncMarksOptions | undefined;

  /**
   * @param options.mediaStartAt wall time of media time 0 (FIRST_PACKET_TIMESTAMP), ms epoch
   * @param options.seed seeds the conversation script
   * @param options.syncMarks tone bursts and white pictures at fixed media times (syncMarks.ts)
   */
  constructor(options: {
    product: Product;
    participants: readonly SimParticipant[];
    seed: number;
    mediaStartAt: number;
    backlog: MediaBacklog;
    syncMarks?: SyncMarksOptions | undefined;
  }) {
    this.#syncMarks = options.syncMarks;
    this.#product = options.product;
    this.#participants = options.participants;
    this.#conversation = new Conversation({ product: options.product, participants: options.participants.length, seed: options.seed });
    this.#renderer = new AudioRenderer({ participants: options.participants, conversation: this.#conversation });
    this.#backlog = options.backlog;
    this.#mediaStartAt = options.mediaStartAt;
  }

  get mediaStartAt(): number {
    return this.#mediaStartAt;
  }

  /** Latest negotiated parameters per kind. */
  get params(): MediaParams {
    return this.#params;
  }

  get activeSpeaker(): SimParticipant | undefined {
    return this.#participants[this.#activeSpeaker];
  }

  /** Participants whose camera is on now. */
  camerasOn(): SimParticipant[] {
    return this.#participants.filter((participant) => this.#conversation.isCameraOn(participant.index, this.#elapsedMs));
  }

  /** Wall time of a media time, ms epoch, on the server's clock (stepped by `stepClock`). */
  wallTime(mediaMs: number): number {
    return this.#mediaStartAt + Math.round(mediaMs) + this.#clockStepMs;
  }

  /**
   * Timestamp trouble (a server clock change, one bad packet): with `once`, only the next
   * audio packet is dated `deltaMs` off; otherwise every timestamp from now on is.
   */
  stepClock(deltaMs: number, options: { once?: boolean } = {}): void {
    if (options.once) this.#misdateNextAudioMs = (this.#misdateNextAudioMs ?? 0) + deltaMs;
    else this.#clockStepMs += deltaMs;
  }

  /** Applies parameters from a media handshake; production of that kind starts now. */
  applyParams(params: MediaParams, elapsedMs: number): void {
    if (params.audio !== undefined) {
      this.#params.audio = params.audio;
      // Audio starts on a 20 ms boundary at the current media time; it never rewinds.
      this.#audioCursorMs ??= Math.floor(Math.max(0, elapsedMs) / 20) * 20;
    }
    if (params.video !== undefined) {
      this.#params.video = params.video;
      this.#restartTrack(this.#video, params.video.fps, elapsedMs);
    }
    if (params.deskshare !== undefined) {
      this.#params.deskshare = params.deskshare;
      this.#restartTrack(this.#deskshare, params.deskshare.fps, elapsedMs);
    }
    if (params.transcript !== undefined) this.#params.transcript = params.transcript;
    if (params.chat !== undefined) this.#params.chat = params.chat;
  }

  /** Individual video stream (data_opt 4): the participant to show, or undefined for none. */
  subscribeVideo(participant: SimParticipant | undefined): void {
    this.#videoSubscription = participant?.index;
    this.#video.needsKeyframe = true;
  }

  get videoSubscription(): SimParticipant | undefined {
    return this.#videoSubscription === undefined ? undefined : this.#participants[this.#videoSubscription];
  }

  /** Produces everything due up to media time `elapsedMs`. */
  produce(elapsedMs: number, outlet: ProducerOutlet): void {
    this.#elapsedMs = Math.max(this.#elapsedMs, elapsedMs);
    for (const event of this.#conversation.advance(elapsedMs)) this.#onEvent(event, outlet);
    this.#produceAudio(elapsedMs);
    this.#producePictures(this.#video, 'video', elapsedMs, outlet);
    this.#producePictures(this.#deskshare, 'deskshare', elapsedMs, outlet);
  }

  #onEvent(event: ConversationEvent, outlet: ProducerOutlet): void {
    switch (event.type) {
      case 'utteranceStart': {
        const { utterance } = event;
        if (!utterance.backchannel && utterance.speaker !== this.#activeSpeaker) {
          this.#activeSpeaker = utterance.speaker;
          const participant = this.#participants[utterance.speaker];
          if (participant !== undefined) outlet.activeSpeakerChanged(participant, this.wallTime(event.atMs));
        }
        if (this.#conversation.isCameraOn(utterance.speaker, event.atMs)) this.#lastVisible = utterance.speaker;
        break;
      }
      case 'utteranceEnd': {
        const transcript = this.#params.transcript;
        const participant = this.#participants[event.utterance.speaker];
        if (transcript === undefined || participant === undefined) break;
        // The source language holds for the first 30 s; afterwards language identification
        // (when enabled) recognises the English the script speaks.
        const sourceLanguage = transcript.src_language < 0 ? 9 : transcript.src_language;
        const language = transcript.enable_lid && event.utterance.startMs >= 30_000 ? 9 : sourceLanguage;
        this.#backlog.push({
          kind: 'transcript',
          participant,
          text: event.utterance.text,
          startTime: this.wallTime(event.utterance.startMs),
          endTime: this.wallTime(event.utterance.endMs),
          language,
        });
        break;
      }
      case 'chat': {
        const participant = this.#participants[event.sender];
        if (this.#params.chat !== undefined && participant !== undefined) {
          this.#backlog.push({ kind: 'chat', participant, text: event.text, timestamp: this.wallTime(event.atMs) });
        }
        break;
      }
      case 'camera': {
        const participant = this.#participants[event.participant];
        if (participant !== undefined) outlet.cameraChanged(participant, event.on, this.wallTime(event.atMs));
        break;
      }
    }
  }

  #produceAudio(elapsedMs: number): void {
    const params = this.#params.audio;
    if (params === undefined || this.#audioCursorMs === undefined) return;
    const format = { sampleRateHz: SAMPLE_RATE_HZ[params.sample_rate] ?? 16_000, channels: params.channel === 2 ? 2 : 1 } as const;
    const interval = params.send_rate;
    for (let from = this.#audioCursorMs; from + interval <= elapsedMs; from += interval) {
      const timestamp = this.wallTime(from) + (this.#misdateNextAudioMs ?? 0);
      this.#misdateNextAudioMs = undefined;
      const marks = this.#syncMarks;
      const zcc = this.#product === 'contact_center';
      if (zcc || params.data_opt === DataOption.AUDIO_MULTI_STREAMS) {
        // Contact Center: every call leg each interval, the agent (the carrier) first.
        let packets = zcc ? this.#renderer.perChannel(from, interval, format) : this.#renderer.perSpeaker(from, interval, format);
        if (!zcc && marks !== undefined && marksOverlapping(marks, from, interval).length > 0) packets = this.#withCarrier(packets, interval, format);
        for (const packet of packets) {
          const role = packet.participant === this.#participants[0] ? 'carrier' : 'muted';
          const syncMarks = marks === undefined ? [] : markPacket(marks, packet.data, from, interval, format, role);
          this.#backlog.push({
            kind: 'audio',
            participant: packet.participant,
            data: packet.data,
            timestamp,
            mediaMs: from,
            ...(syncMarks.length > 0 ? { syncMarks } : {}),
          });
        }
      } else {
        const data = this.#renderer.mixed(from, interval, format);
        const syncMarks = marks === undefined ? [] : markPacket(marks, data, from, interval, format, 'carrier');
        this.#backlog.push({ kind: 'audio', participant: undefined, data, timestamp, mediaMs: from, ...(syncMarks.length > 0 ? { syncMarks } : {}) });
      }
      this.#audioCursorMs = from + interval;
    }
  }

  /**
   * Multi-stream audio during a sync mark: the first participant carries the tone, so it gets
   * a packet (silent outside the mark window) even when not talking, first in the interval.
   */
  #withCarrier(packets: SpeakerPacket[], interval: number, format: AudioFormat): SpeakerPacket[] {
    const carrier = this.#participants[0];
    if (carrier === undefined) return packets;
    const own = packets.find((packet) => packet.participant === carrier);
    const silent = { participant: carrier, data: Buffer.alloc(sampleCount(interval, format.sampleRateHz) * format.channels * 2) };
    return [own ?? silent, ...packets.filter((packet) => packet.participant !== carrier)].slice(0, MAX_SPEAKERS_PER_PACKET);
  }

  #restartTrack(track: PictureTrack, fps: number, elapsedMs: number): void {
    track.fps = fps;
    track.nextSlot = Math.floor((Math.max(0, elapsedMs) * fps) / 1000) + 1;
    track.needsKeyframe = true;
  }

  #producePictures(track: PictureTrack, kind: 'video' | 'deskshare', elapsedMs: number, outlet: ProducerOutlet): void {
    const params = kind === 'video' ? this.#params.video : this.#params.deskshare;
    if (params === undefined || track.nextSlot === undefined) return;
    const dueSlot = Math.floor((elapsedMs * track.fps) / 1000);
    for (; track.nextSlot <= dueSlot; track.nextSlot += 1) {
      const slotMs = (track.nextSlot * 1000) / track.fps;
      const index = track.counter;
      track.counter += 1;
      const participant = kind === 'video' ? this.#visibleParticipant(slotMs) : this.#participants[0];
      const state = participant === undefined ? 'closed' : outlet.pictureOutlet(kind);
      if (participant === undefined || state !== 'open') {
        track.needsKeyframe = true;
        if (state === 'congested') outlet.pictureDropped(kind);
        continue;
      }
      const syncMark = this.#syncMarks !== undefined && isMarkSlot(this.#syncMarks, track.nextSlot, track.fps);
      const picture = syncMark ? this.#syncPicture(kind, params.codec, track) : this.#picture(kind, params.codec, index, track);
      if (picture === undefined) continue;
      outlet.sendPicture({ kind, participant, data: picture, timestamp: this.wallTime(slotMs), ...(syncMark ? { syncMark } : {}) });
    }
  }

  #picture(kind: 'video' | 'deskshare', codec: number, index: number, track: PictureTrack): Buffer | undefined {
    const fixtures = mediaFixtures();
    if (codec === Codec.H264) {
      const unit = index % fixtures.h264.units.length;
      // After a gap a decoder needs an IDR (with its SPS/PPS) to resume.
      if (track.needsKeyframe && fixtures.h264.idr[unit] !== true) return undefined;
      track.needsKeyframe = false;
      return fixtures.h264.units[unit];
    }
    const pictures =
      codec === Codec.PNG ? (kind === 'video' ? fixtures.cameraPng : fixtures.sharePng) : kind === 'video' ? fixtures.cameraJpeg : fixtures.shareJpeg;
    track.needsKeyframe = false;
    return pictures[index % pictures.length];
  }

  /**
   * The white sync picture. For H.264 it is an IDR; the clip resumes at its next IDR, since
   * the clip's P frames cannot be predicted from the white picture.
   */
  #syncPicture(kind: 'video' | 'deskshare', codec: number, track: PictureTrack): Buffer {
    const { h264, sync } = mediaFixtures();
    track.needsKeyframe = false;
    if (codec === Codec.H264) {
      while (h264.idr[track.counter % h264.units.length] !== true) track.counter += 1;
      return sync.h264;
    }
    if (codec === Codec.PNG) return kind === 'video' ? sync.cameraPng : sync.sharePng;
    return kind === 'video' ? sync.cameraJpeg : sync.shareJpeg;
  }

  /** Who the video shows: the subscribed participant (data_opt 4) or the active speaker, cameras permitting. */
  #visibleParticipant(atMs: number): SimParticipant | undefined {
    if (this.#product === 'contact_center') return undefined;
    const cameraOn = (index: number): boolean => index >= 0 && this.#conversation.isCameraOn(index, atMs);
    if (this.#params.video?.data_opt === DataOption.VIDEO_SINGLE_INDIVIDUAL_STREAM) {
      const subscribed = this.#videoSubscription;
      return subscribed !== undefined && cameraOn(subscribed) ? this.#participants[subscribed] : undefined;
    }
    if (cameraOn(this.#activeSpeaker)) return this.#participants[this.#activeSpeaker];
    if (cameraOn(this.#lastVisible)) return this.#participants[this.#lastVisible];
    return this.#participants.find((participant) => cameraOn(participant.index));
  }
}
